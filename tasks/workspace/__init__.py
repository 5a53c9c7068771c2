"""2. The workspace: the storage protocol, folder and S3 backends, every key, the lease, names."""
