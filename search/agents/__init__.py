"""Fathom for AI agents: its search as tools an agent calls (tools.py), published as an MCP
server over stdio (`fathom mcp`) or inside the page (`--mcp`) by server.py. Read-only."""
