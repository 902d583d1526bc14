"""Run bookkeeping shared by the scheduler, the executor and manual runs."""
