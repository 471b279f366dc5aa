"""HTTP and WebSocket endpoints: thin adapters around the tracker. Only this package imports FastAPI."""
