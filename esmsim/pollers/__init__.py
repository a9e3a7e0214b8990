"""pollers"""
