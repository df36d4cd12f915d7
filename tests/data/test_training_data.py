"""``training_datasets`` and ``num_examples`` on the CIFAR-10 fixture (ImageNet: test_imagenet.py)."""

import numpy as np
import pytest

from tfzoo.data import (AugmentConfig, DataError, get_spec, make_train_dataset, normalize, num_examples,
                        training_datasets)

SPEC = get_spec("cifar10")


def test_cifar_subset(cifar_dir, cifar_train, cifar_test):
    augment = AugmentConfig(cutout=8)
    data = training_datasets("cifar10", cifar_dir, batch_size=64, eval_batch_size=100, seed=5, augment=augment,
                             start_epoch=2, max_train_examples=300)
    assert (data.num_train, data.num_test) == (300, 100)
    images, labels = cifar_train[0][:300], cifar_train[1][:300]
    expected = make_train_dataset(images, labels, SPEC, batch_size=64, seed=5, augment=augment, start_epoch=2)
    (x, y), = data.train.take(1)
    (x_expected, y_expected), = expected.take(1)
    np.testing.assert_array_equal(x.numpy(), x_expected.numpy())
    np.testing.assert_array_equal(y.numpy(), y_expected.numpy())
    eval_train = list(data.eval_train)
    assert [x.shape[0] for x, _ in eval_train] == [100, 100, 100]
    np.testing.assert_allclose(np.concatenate([x for x, _ in eval_train]), normalize(images, SPEC).numpy())
    np.testing.assert_array_equal(np.concatenate([y for _, y in eval_train]).argmax(axis=1), labels)
    test_labels = np.concatenate([y for _, y in data.test]).argmax(axis=1)
    np.testing.assert_array_equal(test_labels, cifar_test[1])


def test_num_examples(cifar_dir, tmp_path):
    assert num_examples("cifar10", "test", cifar_dir) == 100
    assert num_examples("cifar10", "train", cifar_dir, max_examples=200) == 200
    with pytest.raises(DataError, match="no cifar10 'test' data found"):
        num_examples("cifar10", "test", tmp_path)
    with pytest.raises(DataError, match="imagenet2012 is not prepared in"):
        num_examples("imagenet2012", "test", tmp_path)
