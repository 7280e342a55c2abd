"""Who does what: accounts, their roles, how they prove who they are, and the audit log.

It sits between `audiences` and `campaign`: contact imports and erasures (audiences) and
approvals, launches and pauses (waves) record their audit entries here.
"""
