"""What happens in time: runs, ledger, scheduler, dispatch, delivery, tasks."""
