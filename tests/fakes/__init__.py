"""Local stand-ins for outside services, run as real HTTP servers inside the test process."""
