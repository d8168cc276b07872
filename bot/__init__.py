"""apbot's conversation layer and front-ends (console, Telegram)."""
