package org.hope4j.bundle;

import java.util.Arrays;
import java.util.Objects;

/**
 * A named float32 tensor: a row-major (C order) array and its shape. Used for the bundle's
 * plastic parameters, golden vectors and saved learner state.
 *
 * <p>The arrays are not copied: a tensor is a view of the caller's arrays, so the caller decides
 * whether to share or clone. {@link #equals} and {@link #hashCode} compare name, shape and data by
 * content (floats bit for bit, as {@link Arrays#equals(float[], float[])} does).
 *
 * @param name the tensor's name, for example {@code blocks.0.l1.up}
 * @param shape the dimensions, each {@code >= 0}; an empty shape is a scalar of one value
 * @param data the values in row-major order; its length is the product of {@code shape}
 */
public record Tensor(String name, int[] shape, float[] data) {

    /**
     * Checks that the shape's product equals the data length.
     *
     * @param name the tensor's name, for example {@code blocks.0.l1.up}
     * @param shape the dimensions, each {@code >= 0}; an empty shape is a scalar of one value
     * @param data the values in row-major order; its length is the product of {@code shape}
     * @throws IllegalArgumentException naming the tensor if a dimension is negative or the product of
     *     the shape differs from {@code data.length}
     * @throws NullPointerException if any argument is {@code null}
     */
    public Tensor {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(shape, "shape of tensor " + name);
        Objects.requireNonNull(data, "data of tensor " + name);
        long product = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor " + name + ": shape " + Arrays.toString(shape) + " has a negative dimension");
            }
            product *= d;
            if (product > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("tensor " + name + ": shape " + Arrays.toString(shape) + " holds more than "
                        + Integer.MAX_VALUE + " values");
            }
        }
        if (product != data.length) {
            throw new IllegalArgumentException("tensor " + name + ": shape " + Arrays.toString(shape) + " holds " + product
                    + " values but data has " + data.length);
        }
    }

    /**
     * Returns the number of values.
     *
     * @return {@code data().length}
     */
    public int size() {
        return data.length;
    }

    /**
     * Returns the number of dimensions.
     *
     * @return {@code shape().length}
     */
    public int rank() {
        return shape.length;
    }

    /**
     * Returns one dimension of the shape.
     *
     * @param i the axis, {@code 0 <= i < rank()}
     * @return {@code shape()[i]}
     * @throws IndexOutOfBoundsException naming the tensor if {@code i} is not an axis
     */
    public int dim(int i) {
        if (i < 0 || i >= shape.length) {
            throw new IndexOutOfBoundsException("tensor " + name + ": axis " + i + " out of range for shape " + Arrays.toString(shape));
        }
        return shape[i];
    }

    /**
     * Tells whether this tensor has exactly the given shape.
     *
     * @param expected the dimensions to compare with
     * @return whether the shapes are equal
     */
    public boolean hasShape(int... expected) {
        return Arrays.equals(shape, expected);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Tensor t && name.equals(t.name) && Arrays.equals(shape, t.shape) && Arrays.equals(data, t.data);
    }

    @Override
    public int hashCode() {
        return (name.hashCode() * 31 + Arrays.hashCode(shape)) * 31 + Arrays.hashCode(data);
    }

    /** Returns the name and shape, for example {@code Tensor[head.norm [128]]}; never the values. */
    @Override
    public String toString() {
        return "Tensor[" + name + " " + Arrays.toString(shape) + "]";
    }
}
