"""apbot's conversation layer and its front-ends (console, Telegram, Matrix)."""
