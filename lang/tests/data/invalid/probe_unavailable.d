tcp:::state-change { trace(1); }
