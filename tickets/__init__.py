"""The 12345 work order (工单): model, lifecycle, deadlines, duplicates, persistence."""
