fbt::tcp_sendmsg:entry { trace(1); }
