"""careflow: social-media customer care as durable Temporal workflows."""
