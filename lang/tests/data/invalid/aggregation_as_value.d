tcp:::send { @c = count(); x = @c; }
