"""Classic classifiers (``gradkit.classic``), the cs231n notes' first two lectures, with
scikit-learn's estimator conventions (``fit``, ``predict``, ``score``, ``get_params`` /
``set_params``) and inputs of any shape (each sample is flattened):

* ``KNeighborsClassifier(k, distance="l2"|"l1")``: ``fit`` memorises, a test sample takes the
  majority label of its k nearest; the same predictions as scikit-learn's brute force.
* ``cross_validate_k(X, y, ks, folds)``: per-fold accuracy of every k, the best mean's k,
  and the notes' plot of accuracy against k.
* ``LinearSVM(delta, reg)`` / ``SoftmaxClassifier(reg)``: scores xW + b with W (D+1) × C
  (bias as the last row), ``loss(X, y) -> (loss, dW)`` at the current W, mini-batch SGD.

Errors a user can fix (X and y of different lengths, k above the training size, an unknown
distance, use before ``fit``) are ValueErrors that say what to change.

    from gradkit.classic import KNeighborsClassifier, LinearSVM, cross_validate_k
    cv = cross_validate_k(X_train, y_train, ks=(1, 3, 5, 8, 10), folds=5)
    knn = KNeighborsClassifier(k=cv.best_k).fit(X_train, y_train)
    svm = LinearSVM(reg=1e-2); history = svm.fit(X_train_std, y_train)
    print(knn.score(X_test, y_test), svm.score(X_test_std, y_test))
"""

from gradkit.classic._checks import NotFittedError
from gradkit.classic.cross_validation import CVResult, cross_validate_k
from gradkit.classic.knn import KNeighborsClassifier
from gradkit.classic.linear import LinearSVM, SoftmaxClassifier, softmax_loss, svm_loss

__all__ = ["KNeighborsClassifier", "cross_validate_k", "CVResult", "LinearSVM",
           "SoftmaxClassifier", "svm_loss", "softmax_loss", "NotFittedError"]
