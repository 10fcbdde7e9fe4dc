"""The streaming gateway (``cryptolens stream``): Server-Sent Events and WebSocket feeds of
the domain events and the forming candle, in an async process of its own so long-lived
connections never hold a web worker. The contract is docs/streaming.md."""
