"""The UI-free core: sources, http, store, recording, analytics and the engine. Never imports Textual."""
