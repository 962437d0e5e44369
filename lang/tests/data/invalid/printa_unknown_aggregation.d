END { printa(@nothing); }
