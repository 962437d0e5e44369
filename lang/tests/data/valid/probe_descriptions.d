/* opts: $1=send */
/* Item 2: every form of probe description. */
BEGIN {}
END {}
dtrace:::ERROR {}
tcp:::send {}
tcp::net_dev_queue:send {}
netif_receive_skb:receive {}
:::receive {}
tcp:::se*,
tcp:::[rs]e?eive,
tcp:::sen?
{}
tcp:::$1 {}
tick-1s {}
tick-1sec {}
profile-997 {}
profile:::tick-10hz {}
tick-100ms, tick-5min {}
ERROR
