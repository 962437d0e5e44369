mib:::tcpActiveOpens { trace(1); }
