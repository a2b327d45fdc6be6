#!/usr/bin/env python3
"""Writes a CURVE certificate pair as czmq's zcert_save does (PATH: the public file,
PATH_secret: the secret one), through libczmq itself, for the tests' coordinators and
workers.  Usage: make_cert.py PATH"""
import ctypes
import sys

czmq = ctypes.CDLL("libczmq.so.4")
czmq.zcert_new.restype = ctypes.c_void_p
czmq.zcert_save.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
czmq.zcert_destroy.argtypes = [ctypes.POINTER(ctypes.c_void_p)]
cert = ctypes.c_void_p(czmq.zcert_new())
if not cert or czmq.zcert_save(cert, sys.argv[1].encode()) != 0:
    sys.exit(f"make_cert.py: cannot write {sys.argv[1]}")
czmq.zcert_destroy(ctypes.byref(cert))
