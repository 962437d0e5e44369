pid123::malloc:entry { trace(1); }
