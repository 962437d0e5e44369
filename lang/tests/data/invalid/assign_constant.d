BEGIN { TH_SYN = 3; }
