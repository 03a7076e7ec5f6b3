"""What every trained stage shares: the Trainer builder, seeding and RNG scopes, run-dir claims,
LR schedules and loggers (hypernetwork, continued pre-training, fine-tuning)."""

IGNORE_INDEX = -100  # label of positions that take no loss (torch's cross_entropy default)
