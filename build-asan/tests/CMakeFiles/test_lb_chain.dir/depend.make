# Empty dependencies file for test_lb_chain.
# This may be replaced when dependencies are built.
