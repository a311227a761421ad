"""streamlite.embedded"""
