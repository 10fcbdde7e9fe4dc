"""Read models for the pages and the JSON API: each returns dataclasses ready to render,
in a fixed number of queries; plus parsing the list pages' query arguments."""
