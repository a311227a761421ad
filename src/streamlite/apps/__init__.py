"""streamlite.apps"""
