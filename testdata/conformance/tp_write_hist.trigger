dd if=/dev/zero of=/dev/null bs=4096 count=3 status=none
