inline int X = "text";
