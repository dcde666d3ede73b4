"""The UI-free core: sources, http, store, recording, analytics, engine. Never imports Textual."""
