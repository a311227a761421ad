"""The stream data type: IDs, compact entry storage, consumer groups."""
