"""streamlite.persistence"""
