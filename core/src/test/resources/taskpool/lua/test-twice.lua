-- A script for LuaSourceTest: includes _test-leaf.lua directly and through _test-middle.lua.
--@include _test-leaf.lua
--@include _test-middle.lua
return 1
