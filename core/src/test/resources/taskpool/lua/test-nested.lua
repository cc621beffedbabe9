-- A script for LuaSourceTest: parts that include parts.
--@include _test-middle.lua
return {leaf(), middle()}
