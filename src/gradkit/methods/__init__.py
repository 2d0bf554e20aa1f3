"""Tensor's op methods, one mixin per group of ops (elementwise, reductions, sorting, shape,
indexing, products, in-place twins, aliases and metadata). gradkit.Tensor inherits them all; tensor.py keeps the object itself
(data, grad, dtype, in-place changes, operators)."""

from gradkit.methods.elementwise import ElementwiseMethods
from gradkit.methods.index import IndexMethods
from gradkit.methods.inplace import InplaceMethods
from gradkit.methods.misc import MiscMethods
from gradkit.methods.products import ProductMethods
from gradkit.methods.reduce import ReduceMethods
from gradkit.methods.shape import ShapeMethods
from gradkit.methods.sort import SortMethods

__all__ = ["ElementwiseMethods", "IndexMethods", "InplaceMethods", "MiscMethods",
           "ProductMethods", "ReduceMethods", "ShapeMethods", "SortMethods"]
