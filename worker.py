"""The worker service: ``python worker.py`` (configured by TEMPORAL_ADDRESS, CAREFLOW_* variables)."""

from careflow.temporal.worker import main

if __name__ == "__main__":
    main()
