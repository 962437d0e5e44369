/* Item 3: predicates and DTrace's rule for `/`. */
tcp:::send /args[4]->tcp_flags & TH_SYN/ { trace(1); }
tcp:::send /args[2]->ip_plength / 2 > 10/ { trace(2); }
tcp:::send / 8 /2/ { trace(3); }
tcp:::send /pid == 0 && execname != "sched"/
{
	trace(4);
}
tcp:::receive /args[4]->tcp_dport/ {}
tcp:::receive /(cpu / 2) == 0/ { trace(5) }
