translator mytcp_t < tcpinfo_t *T > {
	port = T->tcp_sport;
};
BEGIN {}
