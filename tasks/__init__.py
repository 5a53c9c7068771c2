"""The work of shiryo: plain, typed functions and the Prefect tasks that wrap them."""
