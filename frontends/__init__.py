"""The front ends: the command line, the web app and the demo, above waves, audiences and campaign."""
