"""Custom actions of the kanal self-service bot (run by `rasa run actions`)."""
