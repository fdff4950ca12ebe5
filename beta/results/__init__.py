"""The May results: the staff dashboard, its charts, exports, and the results report a worker builds."""
