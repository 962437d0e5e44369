/* opts: $1=eth0 */
BEGIN { x = $1; }
