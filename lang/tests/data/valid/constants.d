/* Catalog constants, string tables and constant folding. */
tcp:::send /args[4]->tcp_flags & (TH_SYN | TH_ACK)/
{
	x = TH_FIN + TH_SYN + TH_RST + TH_PUSH + TH_PSH + TH_ACK + TH_URG + TH_ECE + TH_CWR;
	s = tcp_state_string[args[3]->tcps_state];
	t = tcp_state_string[TCP_STATE_ESTABLISHED];
	y = (1 << 10) / 4 - 0x10 * 2;
	z = 7 > 3 ? 100 : 200;
}
