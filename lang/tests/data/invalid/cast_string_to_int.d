BEGIN { x = (int)"12"; }
