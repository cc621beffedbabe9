-- A script for LuaSourceTest: includes a part that does not exist.
--@include _test-absent.lua
return 1
