"""streamlite.events"""
