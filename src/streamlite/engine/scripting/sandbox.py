"""The Lua side of scripting: Redis's script environment, written in Lua.

``BOOT`` runs once per Lua state (``lupa.lua51``: Lua 5.1, as Redis embeds). It
receives a table of Python callbacks and returns the functions Python needs.
What it builds, following Redis 7+/8:

- A **globals table that scripts cannot change**: scripts run with a proxy as
  their environment; reading a missing global raises ``Script attempted to
  access nonexistent global variable 'x'``, assigning anything raises ``Attempt
  to modify a readonly table``. The library tables (``string``, ``math``,
  ``redis`` ...) are read-only proxies too; ``rawset``/``setmetatable`` on a
  protected table fail the same way; ``rawget``/``next``/``pairs``/``ipairs``
  see through the proxies.
- Only Redis's globals: no ``io``, ``os`` (but ``os.clock``), ``debug``,
  ``print``, ``dofile``, ``loadfile``, ``require``, ``module``, ``setfenv``,
  ``getfenv``, ``newproxy``. ``loadstring``/``load`` compile into the protected
  environment.
- The ``redis`` table: ``call``, ``pcall``, ``error_reply``, ``status_reply``,
  ``sha1hex``, ``log`` and ``LOG_*``, ``setresp``, ``set_repl`` and ``REPL_*``,
  ``replicate_commands``, ``breakpoint``, ``debug``, ``acl_check_cmd``,
  ``REDIS_VERSION``, ``REDIS_VERSION_NUM``. ``math.random`` is Redis's rand48.
- ``pcall`` turns a Redis error table into its message, as Redis's does.
- The functions Redis implements in C and that can raise (``redis.call``,
  ``redis.pcall``, ``redis.log`` ..., ``math.random``) are Python callables:
  like C functions they add no Lua frame, so an error keeps the user's line
  even in ``return redis.call(...)`` (a tail call). They raise ``ScriptError``,
  whose value reaches Lua code through ``py.unwrap``. The builtins wrapped
  in Lua to see through the proxies (``pairs``, ``next``, ``rawget`` ...) do add
  a frame: their rare errors may point at a different line than Redis's.
- The **error handler** shapes failures as Redis does: a table
  ``{err=..., source=..., line=...}``, where a non-table error becomes
  ``'ERR ' .. tostring(err)``, and the position is the user's frame. Frames of
  this file stand for Redis's C functions, so they are skipped when looking
  for that frame.
"""

BOOT = r"""
local py = ...
local type, error, tostring, tonumber, select = type, error, tostring, tonumber, select
local rawget, rawset, rawequal, next, pairs, ipairs = rawget, rawset, rawequal, next, pairs, ipairs
local setmetatable, getmetatable, pcall, xpcall, unpack = setmetatable, getmetatable, pcall, xpcall, unpack
local loadstring, load, setfenv = loadstring, load, setfenv
local getinfo = debug.getinfo
local format, byte = string.format, string.byte
local HERE = getinfo(1, "S").source

-- read-only proxies ---------------------------------------------------------------
local real_of = setmetatable({}, {__mode = "k"})   -- proxy -> table it shows

local function readonly(t, k, v)
  error("Attempt to modify a readonly table", 2)
end

local function protect(t, seen)
  if seen[t] then return seen[t] end
  local shown = {}
  local proxy = setmetatable({}, {__index = shown, __newindex = readonly, __metatable = false})
  seen[t] = proxy
  real_of[proxy] = shown
  for k, v in next, t do
    if type(v) == "table" then v = protect(v, seen) end
    rawset(shown, k, v)
  end
  return proxy
end

-- errors raised by Python callbacks arrive as userdata: py.unwrap gives the value
local unwrap = py.unwrap
local function unwrapped(e)
  if type(e) == "userdata" then e = unwrap(e) end
  return e
end

local W = {}  -- builtins wrapped to see through the proxies

-- argument checks as the C builtins do them (luaL_checktype ...), blaming the caller
local function argerror(i, name, msg, level)
  level = level or 3
  -- luaL_argerror names the function as its caller called it ('?' through pcall)
  local called = getinfo(level - 1, "n")
  name = called and called.name or "?"
  error(format("bad argument #%d to '%s' (%s)", i, name, msg), level)
end
local function tname(n, i, v)
  if i > n then return "no value" end
  return type(v)
end
local function want_table(n, i, v, name)
  if type(v) ~= "table" then argerror(i, name, "table expected, got " .. tname(n, i, v), 4) end
end
local function want_any(n, i, name)
  if i > n then argerror(i, name, "value expected", 4) end
end

function W.rawset(...)
  local n, t, k, v = select("#", ...), ...
  want_table(n, 1, t, "rawset")
  want_any(n, 2, "rawset")
  want_any(n, 3, "rawset")
  if real_of[t] then error("Attempt to modify a readonly table", 0) end
  local r = rawset(t, k, v)
  return r
end
function W.rawget(...)
  local n, t, k = select("#", ...), ...
  want_table(n, 1, t, "rawget")
  want_any(n, 2, "rawget")
  local r = rawget(real_of[t] or t, k)
  return r
end
function W.next(...)
  local n, t, k = select("#", ...), ...
  want_table(n, 1, t, "next")
  local a, b = next(real_of[t] or t, k)
  return a, b
end
function W.pairs(...)
  local n, t = select("#", ...), ...
  want_table(n, 1, t, "pairs")
  local a, b, c = pairs(real_of[t] or t)
  return a, b, c
end
function W.ipairs(...)
  local n, t = select("#", ...), ...
  want_any(n, 1, "ipairs")
  local a, b, c = ipairs(real_of[t] or t)
  return a, b, c
end
function W.setmetatable(...)
  local n, t, mt = select("#", ...), ...
  want_table(n, 1, t, "setmetatable")
  if mt ~= nil and type(mt) ~= "table" then argerror(2, "setmetatable", "nil or table expected") end
  if real_of[t] then error("Attempt to modify a readonly table", 0) end
  local r = setmetatable(t, mt)
  return r
end
local shown_mt = {}  -- protected value -> the read-only metatable scripts see for it
local STRING_MT    -- the strings' metatable as scripts see it (read-only), set below
function W.getmetatable(...)
  local n, t = select("#", ...), ...
  want_any(n, 1, "getmetatable")
  local tt = type(t)
  if tt == "string" then return STRING_MT end
  -- userdata are our C-like functions and cjson.null: no metatable, as in Redis
  if tt == "userdata" then return nil end
  if real_of[t] then return shown_mt[t] end
  local r = getmetatable(t)
  return r
end

-- Python callables standing for C functions look like functions
local pyfn = setmetatable({}, {__mode = "k"})
for _, f in pairs(py) do
  if type(f) == "userdata" then pyfn[f] = true end
end
for _, lib in pairs(py.libs) do
  for _, f in pairs(lib) do
    if type(f) == "userdata" and f ~= lib.null then pyfn[f] = true end
  end
end
function W.type(...)
  local n, v = select("#", ...), ...
  want_any(n, 1, "type")
  if pyfn[v] then return "function" end
  local r = type(v)
  return r
end
function W.tostring(...)
  local n, v = select("#", ...), ...
  want_any(n, 1, "tostring")
  if pyfn[v] then return "function: builtin" end
  local r = tostring(v)
  return r
end

local ENV  -- the scripts' (protected) globals, set below

-- Redis's Lua has no bytecode loader: every chunk goes to the text parser, so one
-- that starts with the bytecode signature (ESC) fails on that character
-- ("unexpected symbol near 'char(27)'"). Stock Lua 5.1 picks its loader from the
-- first byte, so a leading space sends such a chunk to the text parser too (a
-- space changes no line number nor any message).
local function text_only(s)
  if byte(s, 1) == 27 then return " " .. s end
  return s
end
function W.loadstring(...)
  local n, s, chunkname = select("#", ...), ...
  if type(s) ~= "string" and type(s) ~= "number" then
    argerror(1, "loadstring", "string expected, got " .. tname(n, 1, s))
  end
  if chunkname == nil then chunkname = s end  -- luaL_optstring(L, 2, s)
  local f, e = loadstring(text_only(s), chunkname)
  if f then setfenv(f, ENV) end
  return f, e
end
function W.load(...)
  local n, fn, chunkname = select("#", ...), ...
  if type(fn) ~= "function" then
    argerror(1, "load", "function expected, got " .. tname(n, 1, fn))
  end
  -- the first piece decides the loader (lua_load's lookahead): keep it text
  local first = true
  local function reader()
    local piece = fn()
    local t = type(piece)
    if t ~= "string" and t ~= "number" and piece ~= nil then
      -- lbaselib's generic_reader, blaming load's caller (reader < load < W.load < it)
      error("reader function must return a string", 4)
    end
    if first then
      first = false
      if piece ~= nil and piece ~= "" then piece = text_only(piece .. "") end
    end
    return piece
  end
  local f, e
  if chunkname == nil then f, e = load(reader) else f, e = load(reader, chunkname) end
  if f then setfenv(f, ENV) end
  return f, e
end

-- Redis's pcall: an error table {err=...} is returned as its message
local function pack(...) return select("#", ...), {...} end
function W.pcall(...)
  local n, r = pack(pcall(...))
  if not r[1] then
    local e = unwrapped(r[2])
    if type(e) == "table" then
      local m = e.err
      if type(m) == "string" or type(m) == "number" then e = m end
    end
    r[2] = e
  end
  return unpack(r, 1, n)
end
function W.xpcall(f, h)
  local n, r = pack(xpcall(f, function(e) return h(unwrapped(e)) end))
  return unpack(r, 1, n)
end

-- the redis table: what can raise is a Python callable (no Lua frame, as in C)
local redis = {}
redis.call = py.call
redis.pcall = py.pcall
redis.log = py.log
redis.setresp = py.setresp
redis.set_repl = py.set_repl
redis.sha1hex = py.sha1hex
redis.acl_check_cmd = py.acl_check_cmd
local function err_table(msg)
  return {err = msg}
end
function redis.error_reply(...)
  local n, e = select("#", ...), ...
  if n ~= 1 or type(e) ~= "string" then return err_table("ERR wrong number or type of arguments") end
  local r = py.error_table(e)
  return r
end
function redis.status_reply(...)
  local n, s = select("#", ...), ...
  if n ~= 1 or type(s) ~= "string" then return err_table("ERR wrong number or type of arguments") end
  return {ok = s}
end
redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING = 0, 1, 2, 3
redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL = 0, 1, 2, 2, 3
function redis.replicate_commands() return true end
function redis.breakpoint() return false end
function redis.debug() end
redis.REDIS_VERSION = py.version
redis.REDIS_VERSION_NUM = py.version_num

-- the globals scripts see ------------------------------------------------------------
local lib = {}
for _, name in ipairs({"tonumber", "rawequal", "collectgarbage",
                       "select", "unpack", "gcinfo", "assert",
                       "error", "_VERSION", "string", "table"}) do
  lib[name] = _G[name]
end
for name, f in pairs(W) do lib[name] = f end
-- coroutine.create/wrap give each new thread the count hook (a Lua hook set with
-- debug.sethook is looked up per thread: a thread would otherwise escape the time limit)
local co_create, co_resume, maxn = coroutine.create, coroutine.resume, table.maxn
local hook_thread  -- set with the hook, below
local co = {}
for k, v in pairs(coroutine) do co[k] = v end
function co.create(...)
  local t = co_create(...)
  hook_thread(t)
  return t
end
function co.wrap(f)
  local t = co.create(f)
  return function(...)
    local r = {co_resume(t, ...)}
    if not r[1] then
      local e = r[2]
      if type(e) == "string" then error(e, 2) end  -- auxwrap: position added to strings
      error(e, 0)
    end
    return unpack(r, 2, maxn(r))
  end
end
lib.coroutine = co
local m = {}
for k, v in pairs(math) do m[k] = v end
m.random, m.randomseed = py.random, py.randomseed
lib.math = m
lib.os = {clock = os.clock}
lib.redis = redis
for name, t in pairs(py.libs) do lib[name] = t end

local seen = {}
local shown_G = {}
local function env_index(t, k)
  local v = shown_G[k]
  if v == nil then
    error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
  end
  return v
end
ENV = setmetatable({}, {__index = env_index, __newindex = readonly, __metatable = false})
seen[lib] = ENV
real_of[ENV] = shown_G
for k, v in pairs(lib) do
  if type(v) == "table" then v = protect(v, seen) end
  shown_G[k] = v
end
shown_G._G = ENV
getmetatable("").__index = shown_G.string
-- getmetatable on a string, or on the globals, shows a read-only copy, as Redis
-- protects those metatables (the real ones stay out of reach)
STRING_MT = protect({__index = shown_G.string}, {[shown_G.string] = shown_G.string})
shown_mt[ENV] = protect({__index = env_index}, {})

-- functions (FUNCTION LOAD / FCALL) ---------------------------------------------------
-- Library code and the functions it registers share one environment, FENV, whose
-- globals depend on the mode, as Redis swaps them: while loading only a small
-- ``redis`` (register_function, log, versions) exists; when called, the globals
-- of scripts without KEYS and ARGV.
local function strict_index(tbl)
  return function(t, k)
    local v = tbl[k]
    if v == nil then
      error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
    end
    return v
  end
end
local fn_shown = {}
for k, v in pairs(shown_G) do fn_shown[k] = v end
local load_redis_shown = {
  register_function = py.register_function, log = py.log,
  LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
  REDIS_VERSION = py.version, REDIS_VERSION_NUM = py.version_num,
}
local load_redis = setmetatable({}, {__index = strict_index(load_redis_shown),
                                     __newindex = readonly, __metatable = false})
real_of[load_redis] = load_redis_shown
local load_shown = {redis = load_redis}
local fmode = fn_shown
local function fenv_index(t, k)
  local v = fmode[k]
  if v == nil then
    error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
  end
  return v
end
local FENV = setmetatable({}, {__index = fenv_index, __newindex = readonly, __metatable = false})
fn_shown._G = FENV
real_of[FENV] = fn_shown
shown_mt[FENV] = protect({__index = fenv_index}, {})

-- the error handler (Redis's __redis__err__handler; frames of this file skipped) ----
local function handler(err)
  local level, first, pick = 2, nil, nil
  while true do
    local i = getinfo(level, "nSl")
    if not i then break end
    if i.source ~= HERE then
      if first == nil then
        first = i
        if i.what ~= "C" then pick = i break end
      else
        pick = i
        break
      end
    end
    level = level + 1
  end
  err = unwrapped(err)
  if type(err) ~= "table" then
    err = {err = "ERR " .. tostring(err)}
  end
  if pick then
    err.source = pick.source
    err.line = pick.currentline
  end
  return err
end

shown_G.__redis__err__handler = handler  -- a global of scripts (not of functions), as in Redis

-- the count hook (Redis's luaMaskCountHook): every hook_every instructions Python
-- checks the time and, for a script past busy-reply-threshold, lets the front serve
-- others. When it answers with an error (killed, or FUNCTION LOAD past its time) the
-- error is raised here and again at every new line of the user's code, so that
-- pcall cannot swallow it for long. Threads (coroutines) inherit the hook.
local sethook, interrupt, EVERY = debug.sethook, py.interrupt, py.hook_every
local stop  -- the error that ends the running script, once there is one
local function hook(event)
  if event == "line" then
    if stop == nil then sethook(hook, "", EVERY) return end  -- a thread left from before
    if getinfo(2, "S").source ~= HERE then error(stop) end
    return
  end
  local e = interrupt()
  if e ~= nil then
    stop = e
    sethook(hook, "l")
    error(e)
  end
end
local function arm()
  stop = nil
  sethook(hook, "", EVERY)
end
arm()
hook_thread = function(t)
  if stop ~= nil then sethook(t, hook, "l") else sethook(t, hook, "", EVERY) end
end

local api = {}
function api.compile(body)
  local f, e = loadstring(text_only(body), "@user_script")
  if not f then return nil, e end
  setfenv(f, ENV)
  return f, nil
end
function api.run(f)
  arm()
  local ok, r = xpcall(f, handler)
  return ok, r
end
function api.compile_library(code)
  local f, e = loadstring(text_only(code), "@user_function")
  if not f then return nil, e end
  setfenv(f, FENV)
  return f, nil
end
function api.load_library(f)  -- run library code in load mode: (ok, error value)
  fmode, real_of[FENV] = load_shown, load_shown
  arm()
  local ok, e = pcall(f)
  fmode, real_of[FENV] = fn_shown, fn_shown
  if not ok then e = unwrapped(e) end
  return ok, e
end
function api.run_function(f, keys, args)
  arm()
  local ok, r = xpcall(function() return f(keys, args) end, handler)
  return ok, r
end
function api.is_function(v)
  return type(v) == "function"
end
function api.set_args(keys, argv)
  shown_G.KEYS = keys
  shown_G.ARGV = argv
end
api.rawget = rawget
api.next = next
api.tostring = tostring
api.tonumber = tonumber
api.type = type
function api.fname()  -- the name a Python callback was called by ('?' through pcall)
  local i = getinfo(2, "n")
  return i and i.name or "?"
end
function api.where()  -- luaL_where(L, 1) as seen from a Python callback
  local i = getinfo(3, "Sl")
  if i and i.currentline > 0 then return i.short_src .. ":" .. i.currentline .. ": " end
  return ""
end
return api
"""
