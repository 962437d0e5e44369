BEGIN /z == 0/ { trace(q); }
