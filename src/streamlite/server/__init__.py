"""streamlite.server"""
