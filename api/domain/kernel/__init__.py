"""The record kernel: what every record type shares (its registration, the readable statement,
loading, paging, masking, and the version-and-change-log bookkeeping), written once."""
