BEGIN { trace(`max_ncpus); }
